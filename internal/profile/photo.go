package profile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"regexp"
	"strconv"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
)

// Photo limits.
const (
	MaxPhotoBytes  = 20 << 20   // 20 MiB
	MaxPhotoPixels = 40_000_000 // 40 megapixels
	photoQuality   = 90
	// maxPhotoDecodes bounds concurrent decodes: a 40-megapixel image takes
	// 160 MB decoded, so a burst of uploads must queue rather than exhaust memory.
	maxPhotoDecodes = 2
)

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
)

// Photo rejection messages (all EINVALID).
const (
	MsgPhotoEmpty    = "The file is empty"
	MsgPhotoTooLarge = "The file is larger than 20 MiB"
	MsgPhotoType     = "Only JPEG and PNG images are accepted"
	MsgPhotoPixels   = "The image is larger than 40 megapixels"
	MsgPhotoCorrupt  = "The image is damaged or not a valid JPEG or PNG"
	MsgPhotoTrailing = "The image has data after its end"
	MsgPhotoNotFound = "Photo not found"
	// PhotoExtPNG and PhotoExtJPEG are the extensions of a stored photo's key.
	PhotoExtPNG       = "png"
	PhotoExtJPEG      = "jpg"
	photoKeyDirPrefix = "user_images/"
)

// PhotoKey returns the blob key of the user's photo with extension ext ("png"
// or "jpg"). The key is also the stored photo_path; the web app loads it from
// "/<key>".
func PhotoKey(userID int64, ext string) string {
	return photoKeyDirPrefix + strconv.FormatInt(userID, 10) + "." + ext
}

// SetPhoto validates the image in r and stores it as the user's single photo,
// replacing any previous one, and returns its key (the new photo_path). The image
// must be a JPEG or PNG by content, at most MaxPhotoBytes and MaxPhotoPixels,
// with nothing after its end marker. It is decoded and re-encoded, so metadata
// such as EXIF and GPS never survives. Every rejection is EINVALID with a clear
// message and leaves the current photo untouched. ENOTFOUND for an unknown user.
// Setting another user's photo (an admin write) needs c's recent authentication.
func (s *Service) SetPhoto(ctx context.Context, c *account.Caller, userID int64, r io.Reader) (string, error) {
	if err := s.requireForOthers(ctx, c, userID); err != nil {
		return "", err
	}
	out, ext, err := s.CheckImage(ctx, r)
	if err != nil {
		return "", err
	}
	if _, err := s.Store.FindUserByID(ctx, userID); err != nil {
		return "", err
	}
	key := PhotoKey(userID, ext)
	if _, err := s.Blobs.Put(ctx, key, bytes.NewReader(out)); err != nil {
		return "", fmt.Errorf("store photo: %w", err)
	}
	if err := s.Store.SetPhotoPath(ctx, userID, &key); err != nil {
		return "", fmt.Errorf("set photo path: %w", err)
	}
	// Only now drop a photo with the other extension: until the path points at
	// the new file, the old one is still the user's photo.
	other := PhotoExtPNG
	if ext == PhotoExtPNG {
		other = PhotoExtJPEG
	}
	if err := s.Blobs.Delete(ctx, PhotoKey(userID, other)); err != nil {
		return "", fmt.Errorf("delete old photo: %w", err)
	}
	return key, nil
}

// CheckImage reads an uploaded image from r under the photo rules (JPEG or PNG
// by content, at most MaxPhotoBytes and MaxPhotoPixels, nothing after its end)
// and returns it decoded and encoded again, so no metadata survives, with the
// extension of its format. Every rejection is EINVALID with a clear message.
func (s *Service) CheckImage(ctx context.Context, r io.Reader) ([]byte, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPhotoBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read photo: %w", err)
	}
	return s.reencode(ctx, data)
}

// reencode validates data and returns it decoded and encoded again, with the
// extension of its format.
func (s *Service) reencode(ctx context.Context, data []byte) ([]byte, string, error) {
	switch {
	case len(data) == 0:
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoEmpty)
	case len(data) > MaxPhotoBytes:
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoTooLarge)
	}
	var (
		ext          string
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
		end          int
		err          error
	)
	switch {
	case bytes.HasPrefix(data, pngMagic):
		ext, decodeConfig, decode = PhotoExtPNG, png.DecodeConfig, png.Decode
		end, err = pngEnd(data)
	case bytes.HasPrefix(data, jpegMagic):
		ext, decodeConfig, decode = PhotoExtJPEG, jpeg.DecodeConfig, jpeg.Decode
		end, err = jpegEnd(data)
	default:
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoType)
	}
	if err != nil {
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoCorrupt)
	}
	if end != len(data) {
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoTrailing)
	}
	// The header first: a small file can declare a huge image, and decoding its
	// pixels would allocate for all of them.
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoPixels)
	}
	if err := s.acquireDecode(ctx); err != nil {
		return nil, "", err
	}
	defer s.releaseDecode()
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", account.Errorf(account.EINVALID, MsgPhotoCorrupt)
	}
	var buf bytes.Buffer
	if ext == PhotoExtPNG {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: photoQuality})
	}
	if err != nil {
		return nil, "", fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), ext, nil
}

func (s *Service) acquireDecode(ctx context.Context) error {
	s.decodeOnce.Do(func() { s.decodeSem = make(chan struct{}, maxPhotoDecodes) })
	select {
	case s.decodeSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseDecode() { <-s.decodeSem }

var errImageStructure = errors.New("bad image structure")

// pngEnd walks the PNG chunks and returns the offset just past IEND.
func pngEnd(data []byte) (int, error) {
	off := len(pngMagic)
	for {
		if len(data)-off < 12 {
			return 0, errImageStructure
		}
		n := binary.BigEndian.Uint32(data[off:])
		typ := string(data[off+4 : off+8])
		if uint64(n) > uint64(len(data)-off-12) {
			return 0, errImageStructure
		}
		off += 12 + int(n)
		if typ == "IEND" {
			return off, nil
		}
	}
}

// jpegEnd walks the JPEG segments and entropy-coded data and returns the offset
// just past the first EOI marker.
func jpegEnd(data []byte) (int, error) {
	off := 2 // after SOI
	for {
		// Markers may be preceded by any number of 0xFF fill bytes.
		if off >= len(data) || data[off] != 0xFF {
			return 0, errImageStructure
		}
		for off < len(data) && data[off] == 0xFF {
			off++
		}
		if off >= len(data) {
			return 0, errImageStructure
		}
		m := data[off]
		off++
		switch {
		case m == 0xD9: // EOI
			return off, nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		}
		if len(data)-off < 2 {
			return 0, errImageStructure
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		if n < 2 || n > len(data)-off {
			return 0, errImageStructure
		}
		off += n
		if m != 0xDA { // SOS is followed by entropy-coded data
			continue
		}
		// Skip entropy-coded data up to the next marker that is neither a
		// stuffed 0xFF00 nor a restart marker.
		for {
			i := bytes.IndexByte(data[off:], 0xFF)
			if i < 0 {
				return 0, errImageStructure
			}
			off += i
			if off+1 >= len(data) {
				return 0, errImageStructure
			}
			next := data[off+1]
			if next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF {
				off++
				if next != 0xFF {
					off++
				}
				continue
			}
			break
		}
	}
}

// DeletePhoto clears the user's photo_path and deletes the photo files.
// ENOTFOUND for an unknown user. Deleting another user's photo (an admin
// write) needs c's recent authentication.
func (s *Service) DeletePhoto(ctx context.Context, c *account.Caller, userID int64) error {
	if err := s.requireForOthers(ctx, c, userID); err != nil {
		return err
	}
	if err := s.Store.SetPhotoPath(ctx, userID, nil); err != nil {
		return err
	}
	for _, ext := range []string{PhotoExtPNG, PhotoExtJPEG} {
		if err := s.Blobs.Delete(ctx, PhotoKey(userID, ext)); err != nil {
			return fmt.Errorf("delete photo: %w", err)
		}
	}
	return nil
}

var photoNameRE = regexp.MustCompile(`^([1-9][0-9]{0,18})\.(png|jpg)$`)

// OpenPhoto opens the photo file name (as in "/user_images/<name>") for viewer
// and returns its content type. Only the photo's owner and admins may see it;
// anyone else gets the same ENOTFOUND as for a name of the wrong shape or a
// missing file, so the answer does not reveal which accounts have a photo.
func (s *Service) OpenPhoto(ctx context.Context, viewer *account.User, name string) (io.ReadCloser, string, error) {
	m := photoNameRE.FindStringSubmatch(name)
	if m == nil || viewer == nil {
		return nil, "", account.Errorf(account.ENOTFOUND, MsgPhotoNotFound)
	}
	if owner, err := strconv.ParseInt(m[1], 10, 64); err != nil || (owner != viewer.ID && !viewer.IsAdmin()) {
		return nil, "", account.Errorf(account.ENOTFOUND, MsgPhotoNotFound)
	}
	rc, err := s.Blobs.Open(ctx, photoKeyDirPrefix+name)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, "", account.Errorf(account.ENOTFOUND, MsgPhotoNotFound)
	} else if err != nil {
		return nil, "", fmt.Errorf("open photo: %w", err)
	}
	ctype := "image/png"
	if m[2] == PhotoExtJPEG {
		ctype = "image/jpeg"
	}
	return rc, ctype, nil
}

// requireForOthers applies the recent-authentication rule when c acts on an
// account other than their own: on their own photo, a user needs none.
func (s *Service) requireForOthers(ctx context.Context, c *account.Caller, userID int64) error {
	if c != nil && c.User != nil && c.User.ID == userID {
		return nil
	}
	return account.RequireRecentAuth(ctx, s.Recent, c)
}
