// Package scaletest holds the scale-out tests of DESIGN §9 (docs/scale.md): a real PostgreSQL
// streaming replica, a real three-master Redis Cluster and several `sview run` on one database,
// all started on loopback by the tests themselves. They take minutes, so they run only when
// SVIEW_SCALE is set, which `go tool mage scale` does; each prints its figures as lines
// starting with "FIGURE ", which the mage target collects.
package scaletest
