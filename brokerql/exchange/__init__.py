"""The simulated exchange: one order book per instrument, simulated liquidity, quotes from the books."""
