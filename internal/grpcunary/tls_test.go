package grpcunary_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestInvokeTLS calls a grpc-go server over TLS: verified against the
// configured roots, refused without them, and an http target refused by a
// transport that is not insecure.
func TestInvokeTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	creds := credentials.NewServerTLSFromCert(&cert)
	target := startGRPCGo(t, &traceServer{}, grpc.Creds(creds))
	target = "https://" + strings.TrimPrefix(target, "http://")
	body, _ := exportRequest(3).MarshalProto()

	verified := grpcunary.NewTransport(&tls.Config{RootCAs: pool}, false)
	defer verified.(*http.Transport).CloseIdleConnections()
	if _, err := grpcunary.Invoke(context.Background(), verified, target, exportMethod, gzipped(body), nil, true); err != nil {
		t.Fatalf("Invoke over TLS = %v", err)
	}

	unverified := grpcunary.NewTransport(nil, false)
	defer unverified.(*http.Transport).CloseIdleConnections()
	_, err := grpcunary.Invoke(context.Background(), unverified, target, exportMethod, body, nil, false)
	var uae x509.UnknownAuthorityError
	if !errors.As(err, &uae) {
		t.Errorf("Invoke with system roots = %v, want an unknown-authority error", err)
	}

	plain := startGRPCGo(t, &traceServer{})
	if _, err := grpcunary.Invoke(context.Background(), verified, plain, exportMethod, body, nil, false); err == nil || isStatus(err) || !strings.Contains(err.Error(), "cleartext") {
		t.Errorf("Invoke to an http target through a TLS-only transport = %v, want a transport error", err)
	}
}
