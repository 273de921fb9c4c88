package httpapi

// RegisteredPatterns exposes the route table to the external tests, which use
// the httpapitest harness (an internal test cannot import it).
func (s *Server) RegisteredPatterns() []string {
	return append([]string(nil), s.patterns...)
}
