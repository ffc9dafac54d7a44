"""Project-wide defaults only; the plugin itself is pytest_codecbench (a pytest11 entry point)."""

pytest_plugins = ["pytester"]
