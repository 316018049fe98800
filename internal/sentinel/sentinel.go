// Package sentinel holds the vocabulary of the probe network: traps, actions, protocols and
// the services leaked passwords come from, as closed lists shared by ingest, the aggregator
// and the query engine. The tables and precisions are in internal/derived and internal/period.
package sentinel

import "slices"

// Traps are the values of the trap_t enum: the four minipots, the firewall log, and the two
// extensions of sview (SSH fail logs and the SSH honeypot).
var Traps = []string{"minipot_ftp", "minipot_smtp", "minipot_telnet", "minipot_http", "fwlogs", "faillogs", "haas"}

// Actions are the values of the action_t enum.
var Actions = []string{"connect", "login", "message", "invalid", "small_port_scan", "big_port_scan"}

// Protocols are the values of the protocol_t enum.
var Protocols = []string{"TCP", "UDP", "other"}

// Sources are the values of the data_source enum: where a leaked password was captured.
var Sources = []string{"telnet", "smtp", "ftp", "http", "haas"}

// Valid reports whether v is one of the values of list.
func Valid(list []string, v string) bool { return slices.Contains(list, v) }

// SourceOfTrap maps a trap to the service a captured password came from; ok is false for traps
// that capture no passwords.
func SourceOfTrap(trap string) (source string, ok bool) {
	switch trap {
	case "minipot_telnet":
		return "telnet", true
	case "minipot_smtp":
		return "smtp", true
	case "minipot_ftp":
		return "ftp", true
	case "minipot_http":
		return "http", true
	case "haas", "faillogs":
		return "haas", true
	}
	return "", false
}
