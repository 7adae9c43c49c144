"""The Team Zeta world and the local stack behind `zeta demo`."""
