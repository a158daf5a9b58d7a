package notify

import (
	"strings"
	"unicode/utf8"
)

// MaskPhone keeps the country prefix and the last three digits of a phone
// number: "+36301234567" → "+36*******567". Short or odd inputs are masked
// entirely.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < 7 {
		return strings.Repeat("*", n)
	}
	keepHead := 3 // "+36" or "063"
	if !strings.HasPrefix(s, "+") {
		keepHead = 2
	}
	r := []rune(s)
	for i := keepHead; i < len(r)-3; i++ {
		r[i] = '*'
	}
	return string(r)
}

// MaskEmail keeps the first character of the local part and the top-level
// domain: "john.doe@example.com" → "j***@e***.com".
func MaskEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return maskAll(s)
	}
	local, domain := s[:at], s[at+1:]
	first, _ := utf8.DecodeRuneInString(local)
	out := string(first) + "***@"
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 {
		return out + "***"
	}
	d, _ := utf8.DecodeRuneInString(domain)
	return out + string(d) + "***" + domain[dot:]
}

// MaskToken keeps the first and last four characters of a push token.
func MaskToken(s string) string {
	if len(s) <= 12 {
		return maskAll(s)
	}
	return s[:4] + "…" + s[len(s)-4:]
}

// MaskRecipient masks a recipient according to the channel it belongs to.
func MaskRecipient(c Channel, to string) string {
	switch c {
	case SMS:
		return MaskPhone(to)
	case Email:
		return MaskEmail(to)
	default:
		return MaskToken(to)
	}
}

// MaskSecret replaces every occurrence of secret in text with asterisks of the
// same length; it is used to log a rendered 2FA message without its code.
func MaskSecret(text, secret string) string {
	if secret == "" {
		return text
	}
	return strings.ReplaceAll(text, secret, strings.Repeat("*", utf8.RuneCountInString(secret)))
}

func maskAll(s string) string { return strings.Repeat("*", utf8.RuneCountInString(s)) }
