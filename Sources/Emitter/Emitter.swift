// The emitter library.
