"""Built-in nodes. Each module holds one family; hardware nodes acquire hardware in setup()."""
