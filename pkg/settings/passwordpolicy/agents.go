package passwordpolicy

import "github.com/convrs/admin/pkg/agents"

// ForAgents is the policy as setting an agent's password needs it (package agents cannot
// import this one): Enforce, PreventReuse and ExpiryDays as they are, Evaluate converting
// the violations.
func (s Settings) ForAgents() agents.Policy {
	return agents.Policy{Enforce: s.Enforce, PreventReuse: s.PreventReuse, ExpiryDays: s.ExpiryDays,
		Evaluate: func(password string) []agents.Violation {
			vs := s.Evaluate(password)
			out := make([]agents.Violation, len(vs))
			for i, v := range vs {
				out[i] = agents.Violation(v)
			}
			return out
		}}
}
