"""Staff console pages: case board (board.py), form builder (builder.py), counter (counter.py)."""
