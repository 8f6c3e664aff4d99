"""The benchmark commands (`seekwise bench`, `seekwise bench-vectors`): in the pip package, left out of
the frozen app (packaging/seekwise.spec). The product (core, cli, gui) never imports this at start;
the CLI loads a command's module only when that command is parsed."""
