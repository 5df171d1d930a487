"""The rules of the hotline, once: states, deadlines, personal data, untrusted text, routing and
the state machine. Pure: no Textual, no HTTP, no IO."""
