"""What analysts and evaluators read: capacity sweeps, plots and the evaluators' report."""
