"""One module per `tillbridge` subcommand, each with `register(subparsers)`."""
