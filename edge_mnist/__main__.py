"""python -m edge_mnist runs the CLI."""

from edge_mnist.cli import main

main()
