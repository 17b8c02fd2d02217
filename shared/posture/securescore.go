package posture

import "time"

// SecureScore is what the Secure Score collector reads.
type SecureScore struct {
	// Scores are the daily scores Graph keeps (about 90), newest first.
	Scores   []Score          `json:"scores"`
	Profiles []ControlProfile `json:"profiles"`
}

// Score is one daily Microsoft Secure Score.
type Score struct {
	CreatedAt     time.Time          `json:"createdAt"`
	CurrentScore  float64            `json:"currentScore"`
	MaxScore      float64            `json:"maxScore"`
	AverageScores map[string]float64 `json:"averageScores,omitempty"` // by basis
	ControlScores []ControlScore     `json:"controlScores,omitempty"`
}

// ControlScore is a Secure Score control's contribution on a day.
type ControlScore struct {
	ControlName     string  `json:"controlName"`
	ControlCategory string  `json:"controlCategory"`
	Score           float64 `json:"score"`
}

// ControlProfile describes a Secure Score improvement action.
type ControlProfile struct {
	ID              string  `json:"id"`
	Title           string  `json:"title"`
	ControlCategory string  `json:"controlCategory"`
	MaxScore        float64 `json:"maxScore"`
	Rank            int     `json:"rank"`
	UserImpact      string  `json:"userImpact,omitempty"`
	Deprecated      bool    `json:"deprecated"`
	ActionURL       string  `json:"actionUrl,omitempty"`
	// Service is the product the action belongs to (MDO, EXO, AzureAD...).
	Service string `json:"service,omitempty"`
	// Remediation is the action's how-to as plain text. It is not stored
	// with the Secure Score area (a few hundred of them add size without
	// use); the email area keeps it for its own controls.
	Remediation string `json:"-"`
}
