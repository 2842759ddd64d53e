"""A stateful emulator of the Stripe API subset this service uses (see DESIGN.md §7).

Entry points: `app.sandbox.app.create_emulator_app`, `app.sandbox.server.running_emulator`,
`app.sandbox.server.serve`, and `app.sandbox.state.EmulatorState` for in-process control.
"""
