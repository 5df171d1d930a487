"""Textual widgets of the hotline app. Import the widget modules directly (`tui.ui.widgets.queue_table`);
this package imports nothing, so that importing it costs nothing."""
