"""sims: simulated worlds (seedable models with step(dt), state and render) that drive hal's
simulated backends. They know nothing of nodes or transport."""
