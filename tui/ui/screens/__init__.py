"""The app's screens and the modal dialogs it pushes."""
