"""The Textual side of the app: the app, its screens, dialogs and widgets."""
