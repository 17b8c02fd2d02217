// Package controls holds the baseline control catalogue (CISA SCuBA Entra ID
// controls and the product's M365SEC controls) as data, the engine that
// evaluates it over stored snapshots, exceptions (risk acceptances) and the
// per-control history. Evaluation is pure: the caller supplies snapshots,
// exceptions, targets and the time.
package controls
