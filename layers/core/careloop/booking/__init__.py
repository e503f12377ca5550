"""Self-scheduling (spec/booking.md): what can be booked (`availability`), the open slots
(`slots`), personal links and the booking itself (added beside them)."""
