"""Reports for the street office: `figures.py` computes them (pure), `load.py` reads the facts."""
