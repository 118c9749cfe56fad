// Placeholder so the package builds until the bundle tests land (lead); delete when another file exists.
