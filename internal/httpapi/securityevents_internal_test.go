package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every event type the account package records is a documented, stable type of
// the security history: a new Event* constant without its enum entry fails here.
func TestSecurityEvents_TypesDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../account/event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var recorded []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Event") {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			recorded = append(recorded, v)
		}
		return true
	})
	if len(recorded) < 20 {
		t.Fatalf("found only %d event types in account/event.go", len(recorded))
	}
	field, _ := reflect.TypeFor[securityEventJSON]().FieldByName("Type")
	documented := strings.Split(field.Tag.Get("enum"), ",")
	for _, typ := range recorded {
		if !slices.Contains(documented, typ) {
			t.Errorf("event type %q is recorded but not in securityEventJSON's enum", typ)
		}
	}
}

// Every method a session can record is reported; an unknown one is dropped.
func TestSecurityEvents_KnownMethods(t *testing.T) {
	for _, m := range []string{"password", "password+totp", "password+backup_code", "password+passkey",
		"sso", "sso+totp", "sso+backup_code", "sso+passkey", "passkey"} {
		if got := knownMethod(map[string]any{"method": m}); got != m {
			t.Errorf("method %q reported as %q", m, got)
		}
	}
	if got := knownMethod(map[string]any{"method": "password+secret123"}); got != "" {
		t.Errorf("an undocumented method is reported: %q", got)
	}
}
