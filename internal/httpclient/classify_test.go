package httpclient_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		transient []int
		want      httpclient.Class
	}{
		{200, nil, httpclient.Delivered},
		{202, nil, httpclient.Delivered},
		{204, nil, httpclient.Delivered},
		{299, nil, httpclient.Delivered},
		{200, []int{200}, httpclient.Delivered}, // transient cannot fail a 2xx
		{100, nil, httpclient.Transient},
		{199, nil, httpclient.Transient},
		{301, nil, httpclient.Permanent},
		{307, nil, httpclient.Permanent},
		{400, nil, httpclient.Permanent},
		{401, nil, httpclient.Permanent},
		{404, nil, httpclient.Permanent},
		{408, nil, httpclient.Transient},
		{425, nil, httpclient.Permanent},
		{425, []int{http.StatusTooEarly}, httpclient.Transient},
		{429, nil, httpclient.Transient},
		{409, []int{409, 410}, httpclient.Transient},
		{410, []int{409, 410}, httpclient.Transient},
		{411, []int{409, 410}, httpclient.Permanent},
		{499, nil, httpclient.Permanent},
		{500, nil, httpclient.Transient},
		{503, nil, httpclient.Transient},
		{599, nil, httpclient.Transient},
		{600, nil, httpclient.Transient},
		{0, nil, httpclient.Transient},
		{-1, nil, httpclient.Transient},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %v", tt.status, tt.transient), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, httpclient.Classify(tt.status, tt.transient...))
		})
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		class httpclient.Class
		want  string
	}{
		{httpclient.Delivered, "delivered"},
		{httpclient.Transient, "transient"},
		{httpclient.Permanent, "permanent"},
		{httpclient.Class(7), "Class(7)"},
		{httpclient.Class(-1), "Class(-1)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.class.String())
	}
}

func TestBisectable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   bool
	}{
		{400, true}, {409, true}, {413, true}, {418, true}, {422, true},
		{300, false}, {301, false}, {302, false}, {307, false}, {308, false}, {399, false},
		{401, false}, {402, false}, {403, false}, {404, false}, {405, false}, {406, false},
		{407, false}, {410, false}, {411, false}, {414, false}, {415, false}, {421, false},
		{426, false}, {431, false}, {451, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.Bisectable(tt.status), "%d", tt.status)
	}
}
