package testsupport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// Conn is a raw client connection, for tests of how a server treats its
// connections: keep-alive, idle, silent or closed.
type Conn struct {
	net.Conn
	R *bufio.Reader // what the server sent
}

// Dial connects to addr from local (an address of 127.0.0.0/8; "" for
// any); the connection is closed when the test ends.
func Dial(t testing.TB, addr, local string) Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return Conn{c, bufio.NewReader(c)}
}

// RoundTrip sends a keep-alive request without a body and reads its whole
// answer, within wait.
func (c Conn) RoundTrip(method, path string, wait time.Duration) (*http.Response, error) {
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: relay\r\nContent-Length: 0\r\n\r\n", method, path); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.R, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// ClosedByServer reports whether the server closes c (EOF or reset)
// within wait.
func (c Conn) ClosedByServer(wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.R.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
