package posture

// Resource applications whose delegated permission classifications decide
// whether low-impact user consent is safe: the resources of the permissions
// the SCuBA baseline's ScubaGear treats as risky.
const (
	AppMicrosoftGraph   = "00000003-0000-0000-c000-000000000000"
	AppExchangeOnline   = "00000002-0000-0ff1-ce00-000000000000"
	AppSharePointOnline = "00000003-0000-0ff1-ce00-000000000000"
)

// ConsentResourceApps lists them in the order they are read.
var ConsentResourceApps = []string{AppMicrosoftGraph, AppExchangeOnline, AppSharePointOnline}
