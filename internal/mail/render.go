package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"text/template"
)

//go:embed templates
var templateFS embed.FS

// DefaultLanguage is used when the user's preferred_language has no
// translation of a message (Endurain's code for US English).
const DefaultLanguage = "us"

// Message is a rendered message, as sealed in the outbox.
type Message struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Data fills a template.
type Data struct {
	Product   string
	PublicURL string
	Name      string
	Username  string
	Email     string
	Link      string
	Expiry    string
	When      string
	Device    string
	IP        string
	Detail    map[string]string
}

type tmplPair struct {
	text *template.Template
	html *htmltemplate.Template
}

// Renderer renders messages in the user's language where a translation exists.
type Renderer struct {
	byLang map[string]map[string]tmplPair // language → kind → templates
}

// NewRenderer parses the embedded templates; it panics on a broken template,
// which the tests catch.
func NewRenderer() *Renderer {
	r := &Renderer{byLang: map[string]map[string]tmplPair{}}
	layout, err := fs.ReadFile(templateFS, "templates/layout.tmpl")
	if err != nil {
		panic(err)
	}
	langs, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		panic(err)
	}
	for _, l := range langs {
		if !l.IsDir() {
			continue
		}
		files, _ := fs.ReadDir(templateFS, "templates/"+l.Name())
		r.byLang[l.Name()] = map[string]tmplPair{}
		for _, f := range files {
			src, err := fs.ReadFile(templateFS, "templates/"+l.Name()+"/"+f.Name())
			if err != nil {
				panic(err)
			}
			kind := strings.TrimSuffix(f.Name(), ".tmpl")
			all := string(layout) + string(src)
			r.byLang[l.Name()][kind] = tmplPair{
				text: template.Must(template.New(kind).Option("missingkey=zero").Parse(all)),
				html: htmltemplate.Must(htmltemplate.New(kind).Option("missingkey=zero").Parse(all)),
			}
		}
	}
	return r
}

// Has reports whether kind has a template in the default language.
func (r *Renderer) Has(kind string) bool {
	_, ok := r.byLang[DefaultLanguage][kind]
	return ok
}

// Render renders kind in lang, or in DefaultLanguage when lang has no
// translation of it.
func (r *Renderer) Render(kind, lang string, d Data) (*Message, error) {
	t, ok := r.byLang[lang][kind]
	if !ok {
		t, ok = r.byLang[DefaultLanguage][kind]
	}
	if !ok {
		return nil, fmt.Errorf("mail: no template %q", kind)
	}
	var subj, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subj, "subject", d); err != nil {
		return nil, fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	if err := t.text.ExecuteTemplate(&text, "text", d); err != nil {
		return nil, fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, "layout_html", d); err != nil {
		return nil, fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	return &Message{Subject: strings.TrimSpace(subj.String()), Text: strings.TrimSpace(text.String()) + "\n", HTML: html.String()}, nil
}

func (m *Message) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

func decodeMessage(b []byte) (*Message, error) {
	m := &Message{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("mail: decode outbox body: %w", err)
	}
	return m, nil
}
