"""The runner, sweeps, results files, plots, and one script per figure."""
