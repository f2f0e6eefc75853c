"""Forms of the registry's pages: registering and editing apps, uploading contracts."""
