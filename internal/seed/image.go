package seed

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

func gradient(r *rand.Rand, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := uint8(r.IntN(256))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: base + uint8(x*4), G: uint8(y * 5), B: 255 - base, A: 255})
		}
	}
	return img
}

// JPEG returns a small valid JPEG photo.
func JPEG(r *rand.Rand, w, h int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, gradient(r, w, h), &jpeg.Options{Quality: 80})
	return b.Bytes(), err
}

// PNG returns a small valid PNG picture.
func PNG(r *rand.Rand, w, h int) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, gradient(r, w, h))
	return b.Bytes(), err
}
