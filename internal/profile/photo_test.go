package profile_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 200, 255})
		}
	}
	return img
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(8, 6)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(16, 16), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// hugePNG is a PNG whose header declares 100000×100000 pixels (1.2 KB on disk).
func hugePNG(t *testing.T) []byte {
	src := pngBytes(t)
	ihdr := append([]byte(nil), src[16:29]...) // IHDR data follows signature, length and type
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	out := append([]byte(nil), src[:8]...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	return append(out, src[33:]...) // the rest: IDAT, IEND
}

// hugeJPEG is a JPEG whose SOF header declares 65535×65535 pixels, the largest a
// JPEG can declare (its dimensions are 16-bit).
func hugeJPEG(t *testing.T) []byte {
	out := jpegBytes(t)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in the test JPEG")
	}
	binary.BigEndian.PutUint16(out[i+5:], 65535)
	binary.BigEndian.PutUint16(out[i+7:], 65535)
	return out
}

const gpsMarker = "GPSLatitude=41.1579N;TRAILPASS-GPS-MARKER"

// exifJPEG is a JPEG with an APP1 Exif segment, holding a GPS marker, after SOI.
func exifJPEG(t *testing.T) []byte {
	src := jpegBytes(t)
	payload := append([]byte("Exif\x00\x00"), gpsMarker...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte(nil), src[:2]...)
	out = append(out, seg...)
	return append(out, src[2:]...)
}

func readBlob(t *testing.T, b blob.Store, key string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestService_Photo(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "smile", "")
		pngKey, jpgKey := profile.PhotoKey(u.ID, "png"), profile.PhotoKey(u.ID, "jpg")

		key, err := e.svc.SetPhoto(ctx, account.Operator(), u.ID, bytes.NewReader(pngBytes(t)))
		if err != nil {
			t.Fatal(err)
		}
		if key != pngKey {
			t.Fatalf("key = %q, want %q", key, pngKey)
		}
		current := readBlob(t, e.blobs, pngKey)
		if img, err := png.Decode(bytes.NewReader(current)); err != nil || img.Bounds().Dx() != 8 {
			t.Fatalf("stored PNG does not decode to the image: %v", err)
		}

		t.Run("Rejected", func(t *testing.T) {
			var gifBuf bytes.Buffer
			if err := gif.Encode(&gifBuf, testImage(4, 4), nil); err != nil {
				t.Fatal(err)
			}
			withText := pngBytes(t)
			truncated := withText[:len(withText)-20]
			tooBig := append(pngBytes(t), make([]byte, 21<<20)...)
			cases := []struct {
				name string
				data []byte
				msg  string
			}{
				{"polyglot after IEND", append(pngBytes(t), []byte("<?php system($_GET['c']); ?>")...), profile.MsgPhotoTrailing},
				{"polyglot after EOI", append(jpegBytes(t), []byte("PK\x03\x04zip")...), profile.MsgPhotoTrailing},
				{"PNG declaring 100000x100000", hugePNG(t), profile.MsgPhotoPixels},
				{"JPEG declaring 65535x65535", hugeJPEG(t), profile.MsgPhotoPixels},
				{"GIF renamed .png", gifBuf.Bytes(), profile.MsgPhotoType},
				{"empty", nil, profile.MsgPhotoEmpty},
				{"21 MiB", tooBig, profile.MsgPhotoTooLarge},
				{"truncated PNG", truncated, profile.MsgPhotoCorrupt},
				{"text", []byte("hello"), profile.MsgPhotoType},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := e.svc.SetPhoto(ctx, account.Operator(), u.ID, bytes.NewReader(c.data))
					if ae := wantCode(t, err, account.EINVALID); ae.Message != c.msg {
						t.Fatalf("message = %q, want %q", ae.Message, c.msg)
					}
					if got := readBlob(t, e.blobs, pngKey); !bytes.Equal(got, current) {
						t.Fatal("the current photo changed")
					}
					if _, err := e.blobs.Size(ctx, jpgKey); !errors.Is(err, blob.ErrNotFound) {
						t.Fatalf("a JPEG appeared: %v", err)
					}
					if db := e.findUser(t, u.ID); db.PhotoPath == nil || *db.PhotoPath != pngKey {
						t.Fatalf("photo_path = %v", db.PhotoPath)
					}
				})
			}
		})

		t.Run("PNGMetadataStripped", func(t *testing.T) {
			src := pngBytes(t)
			// A tEXt chunk before IEND: inside the image, so not "trailing".
			iend := len(src) - 12
			in := append(append(append([]byte(nil), src[:iend]...), pngChunk("tEXt", []byte("Comment\x00"+gpsMarker))...), src[iend:]...)
			if _, err := png.Decode(bytes.NewReader(in)); err != nil {
				t.Fatalf("test PNG is invalid: %v", err)
			}
			if _, err := e.svc.SetPhoto(ctx, account.Operator(), u.ID, bytes.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			current = readBlob(t, e.blobs, pngKey)
			if bytes.Contains(current, []byte("TRAILPASS-GPS-MARKER")) || bytes.Contains(current, []byte("tEXt")) {
				t.Fatal("PNG text metadata survived")
			}
		})

		t.Run("JPEGExifStrippedAndReplacesPNG", func(t *testing.T) {
			in := exifJPEG(t)
			if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil || !bytes.Contains(in, []byte("Exif")) {
				t.Fatalf("test JPEG is invalid: %v", err)
			}
			key, err := e.svc.SetPhoto(ctx, account.Operator(), u.ID, bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if key != jpgKey {
				t.Fatalf("key = %q, want %q", key, jpgKey)
			}
			stored := readBlob(t, e.blobs, jpgKey)
			if bytes.Contains(stored, []byte("Exif")) || bytes.Contains(stored, []byte("TRAILPASS-GPS-MARKER")) {
				t.Fatal("EXIF/GPS survived")
			}
			if img, err := jpeg.Decode(bytes.NewReader(stored)); err != nil || img.Bounds().Dx() != 16 {
				t.Fatalf("stored JPEG: %v", err)
			}
			if _, err := e.blobs.Size(ctx, pngKey); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("the old PNG is still there: %v", err)
			}
			if db := e.findUser(t, u.ID); db.PhotoPath == nil || *db.PhotoPath != jpgKey {
				t.Fatalf("photo_path = %v", db.PhotoPath)
			}
		})

		t.Run("Open", func(t *testing.T) {
			// The owner and an admin see it.
			for _, viewer := range []*account.User{u, {ID: u.ID + 1000, AccessType: account.AccessAdmin}} {
				rc, ctype, err := e.svc.OpenPhoto(ctx, viewer, jpgKey[len("user_images/"):])
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if ctype != "image/jpeg" || !bytes.Equal(got, readBlob(t, e.blobs, jpgKey)) {
					t.Fatalf("OpenPhoto = %s, %d bytes", ctype, len(got))
				}
			}
			// Another regular user gets the same answer as for a missing file.
			other := &account.User{ID: u.ID + 1000, AccessType: account.AccessRegular}
			_, _, err := e.svc.OpenPhoto(ctx, other, jpgKey[len("user_images/"):])
			wantCode(t, err, account.ENOTFOUND)
			for _, name := range []string{"../trailpass.db", "1.gif", "01.jpg", "", "99999.png"} {
				_, _, err := e.svc.OpenPhoto(ctx, u, name)
				wantCode(t, err, account.ENOTFOUND)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			if err := e.svc.DeletePhoto(ctx, account.Operator(), u.ID); err != nil {
				t.Fatal(err)
			}
			if db := e.findUser(t, u.ID); db.PhotoPath != nil {
				t.Fatalf("photo_path = %v after delete", *db.PhotoPath)
			}
			for _, k := range []string{pngKey, jpgKey} {
				if _, err := e.blobs.Size(ctx, k); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("%s still there: %v", k, err)
				}
			}
			wantCode(t, e.svc.DeletePhoto(ctx, account.Operator(), 999999), account.ENOTFOUND)
		})
	})
}
