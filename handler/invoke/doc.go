// Package invoke speaks the Azure Functions custom-handler invocation protocol:
// it decodes the envelopes the host POSTs to /{FunctionName} (timer and Service
// Bus triggers), encodes the host's response format, maps outcomes to the status
// codes the host acts on, recovers panics and copies logs into the response.
// The standalone scheduler and in-process queue build envelopes with the same
// encoders, so every invocation takes one code path. It holds no business logic.
package invoke
