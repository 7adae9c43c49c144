"""Pure, frozen data. No I/O, no Textual."""
