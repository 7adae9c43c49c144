"""The baseline for bench/startup.py: the smallest Textual app that draws something."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class HelloApp(App):
    def compose(self) -> ComposeResult:
        yield Static("hello")


if __name__ == "__main__":
    HelloApp().run()
