// A stand-in for a plugin backend: the checker only reads its Go build info.
package main

func main() {}
