"""`tillbridge demo`: the whole box on simulated devices, shown live in the terminal."""
