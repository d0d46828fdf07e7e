"""What the web app, the API and the CLI call: typed views in, typed views out."""
