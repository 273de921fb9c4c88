package auth

import (
	"regexp"
	"strings"

	useragent "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// Device describes the client of a request, for the session list.
type Device struct {
	IP                     string
	UserAgent              string
	DeviceType             string // "PC", "Mobile" or "Tablet", as Endurain names them
	OperatingSystem        string // "Windows", "Mac OS X", "Linux", "iOS", "Android", … or "Unknown"
	OperatingSystemVersion string
	Browser                string
	BrowserVersion         string
}

var uaParser = useragent.NewParser()

// Endurain's web app picks icons by these OS names (from Python's user-agents).
var osNames = map[agents.OS]string{
	agents.OSMacOS:    "Mac OS X",
	agents.OSWindows:  "Windows",
	agents.OSLinux:    "Linux",
	agents.OSIOS:      "iOS",
	agents.OSAndroid:  "Android",
	agents.OSChromeOS: "Chrome OS",
	agents.OSFreeBSD:  "FreeBSD",
	agents.OSOpenBSD:  "OpenBSD",
}

var osVersionREs = []*regexp.Regexp{
	regexp.MustCompile(`Windows NT ([0-9.]+)`),
	regexp.MustCompile(`Mac OS X ([0-9_.]+)`),
	regexp.MustCompile(`(?:iPhone|CPU) OS ([0-9_]+)`),
	regexp.MustCompile(`Android ([0-9.]+)`),
}

// ParseDevice fills a Device from the client address and User-Agent header. The
// library gives the families; the version of the OS comes from the common tokens.
func ParseDevice(ip, ua string) Device {
	d := Device{IP: clip(ip), UserAgent: ua, DeviceType: "PC", OperatingSystem: "Unknown", Browser: "Unknown"}
	if ua == "" {
		return d
	}
	a := uaParser.Parse(ua)
	switch a.Device() {
	case agents.DeviceMobile:
		d.DeviceType = "Mobile"
	case agents.DeviceTablet:
		d.DeviceType = "Tablet"
	}
	if name, ok := osNames[a.OS()]; ok {
		d.OperatingSystem = name
	}
	for _, re := range osVersionREs {
		if m := re.FindStringSubmatch(ua); m != nil {
			d.OperatingSystemVersion = clip(strings.ReplaceAll(m[1], "_", "."))
			break
		}
	}
	if b := a.Browser(); b != "" {
		d.Browser = clip(string(b))
		d.BrowserVersion = clip(a.BrowserVersion())
	}
	return d
}

// clip keeps a value within the 45 characters the session columns hold; Endurain
// failed the whole login with a 500 on longer values.
func clip(s string) string {
	if len(s) > 45 {
		return s[:45]
	}
	return s
}
