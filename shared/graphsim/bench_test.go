package graphsim

import (
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"testing"
)

var (
	largeOnce   sync.Once
	largeTenant *Tenant
)

func newLargeTenant(b *testing.B) *Tenant {
	b.Helper()
	largeOnce.Do(func() { largeTenant = Generate(1, LargeSize()) })
	return largeTenant
}

// BenchmarkGenerateLarge generates 100k users, 100k devices and 200 CA groups
// and reports the heap the tenant keeps.
func BenchmarkGenerateLarge(b *testing.B) {
	b.ReportAllocs()
	var kept uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tn := Generate(1, LargeSize())
		runtime.GC()
		runtime.ReadMemStats(&after)
		kept = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(tn)
	}
	b.ReportMetric(float64(kept)/(1<<20), "MB-kept")
}

// midPage returns a path for a page in the middle of a large collection, so
// the benchmark measures a continued page rather than the first one.
func midPage(b *testing.B, s *Server, first string) string {
	b.Helper()
	path := first
	for range 50 {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		r := readResult(b, w.Result())
		next := r.nextLink()
		if next == "" {
			break
		}
		u, err := url.Parse(next)
		if err != nil {
			b.Fatal(err)
		}
		path = u.RequestURI()
	}
	return path
}

func benchmarkPage(b *testing.B, first string) {
	tn := newLargeTenant(b)
	s := NewServer(tn, Options{LogLimit: -1})
	path := midPage(b, s, first)
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "KB/page")
}

// BenchmarkServeUsersPage999 serves one 999-user page (default properties).
func BenchmarkServeUsersPage999(b *testing.B) { benchmarkPage(b, "/v1.0/users?$top=999") }

// BenchmarkServeUsersPage999Selected is the collector's query: selected
// properties including signInActivity.
func BenchmarkServeUsersPage999Selected(b *testing.B) {
	benchmarkPage(b, "/v1.0/users?$top=999&$select=id,userPrincipalName,accountEnabled,userType,onPremisesSyncEnabled,signInActivity")
}

// BenchmarkServeDevicesPage1000 serves 1000 managed devices with their
// Windows protection state expanded.
func BenchmarkServeDevicesPage1000(b *testing.B) {
	benchmarkPage(b, "/v1.0/deviceManagement/managedDevices?$expand=windowsProtectionState")
}

// BenchmarkServeTransitiveMembersPage999 serves a page of the all-staff
// group's transitive members (about 95k users under nested groups).
func BenchmarkServeTransitiveMembersPage999(b *testing.B) {
	tn := newLargeTenant(b)
	var id string
	for _, g := range tn.Groups {
		if g.DisplayName == "CA-All-Staff" {
			id = g.ID
		}
	}
	benchmarkPage(b, "/v1.0/groups/"+id+"/transitiveMembers?$top=999&$select=id,displayName")
}
