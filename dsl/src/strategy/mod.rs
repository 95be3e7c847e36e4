//! Strategies: vectorized signals, per-bar callbacks and AVE bot configs.
