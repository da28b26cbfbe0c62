"""Pure detection logic (DESIGN §4): no I/O, no clocks; time is passed in."""
