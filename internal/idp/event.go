package idp

import (
	"context"
	"log/slog"

	"github.com/trailpass/trailpass/internal/account"
)

// record writes a security event; a failure to log must not undo a sign-in that
// already happened, so it is logged instead of returned.
func (s *Service) record(ctx context.Context, userID int64, typ string, p *Provider, detail map[string]any) {
	d := map[string]any{"idp_id": p.ID, "idp_slug": p.Slug}
	for k, v := range detail {
		d[k] = v
	}
	e := &account.SecurityEvent{UserID: &userID, Type: typ, Detail: d, CreatedAt: s.Now().UTC()}
	if err := s.Events.RecordSecurityEvent(ctx, e); err != nil {
		logWarn(ctx, "record security event "+typ, p, err)
	}
}

func logWarn(ctx context.Context, msg string, p *Provider, err error) {
	slog.WarnContext(ctx, msg, "idp", p.Slug, "error", err)
}
