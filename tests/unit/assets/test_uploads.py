"""Therapists' uploaded pictures (issue 6): the Pillow sanitiser on real crafted files
(wrong types, truncated files, a decompression bomb, GPS EXIF), the files on disk, the
HTTP routes (who may upload, read and delete), pictures in stories and their PDF."""
import io
import os
import re
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from activities import stories
from activities.contract import Rejected
from rooms.assets import uploads
from rooms.assets.pictures import Assets
from tests.support import ROOT

GPS_LAT = (52.0, 22.0, 1.5)
GPS_TEXT = b"GPSSECRET-52N"


# ====================================================================== crafted files

def png(size=(64, 48), color=(200, 40, 40), mode="RGB", **save):
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG", **save)
    return buf.getvalue()


def jpeg_with_gps(size=(120, 80), orientation=None):
    """A real JPEG whose EXIF holds GPS coordinates, a camera model and (in the
    comment) a marker string, all of which must be gone after cleaning."""
    im = Image.new("RGB", size, (30, 120, 200))
    im.paste((250, 250, 0), (0, 0, size[0] // 2, size[1] // 4))   # top-left mark
    exif = Image.Exif()
    exif[0x0110] = "SecretCam 3000"                       # Model
    if orientation:
        exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: GPS_LAT, 3: "E", 4: (4.0, 53.0, 2.0)}   # GPSInfo
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, comment=GPS_TEXT, quality=90)
    return buf.getvalue()


def png_bomb(side=20000):
    """A 20000×20000 1-bit PNG, a few kB on disk: its header promises 400 megapixels."""
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, "PNG")
    return buf.getvalue()


def png_header_only(w, h):
    """A PNG signature and IHDR claiming w×h RGB, then a tiny IDAT: refused from the
    header, so no pixel is ever decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + \
        chunk(b"IEND", b"")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def refused(data, code):
    with pytest.raises(uploads.UploadError) as e:
        uploads.sanitise(data)
    assert e.value.code == code, (e.value.code, str(e.value))
    assert str(e.value) and "Traceback" not in str(e.value)
    return e.value


def decoded(data):
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.format, im.size, im.mode, dict(im.info), dict(im.getexif())


# ====================================================================== the sanitiser

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_real_pictures_of_each_format_come_out_as_clean_webp(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (90, 60), (10, 200, 30)).save(buf, fmt)
    clean = uploads.sanitise(buf.getvalue())
    assert (clean.width, clean.height) == (90, 60)
    fmt_out, size, mode, info, exif = decoded(clean.data)
    assert fmt_out == "WEBP" and size == (90, 60) and exif == {}
    assert decoded(clean.thumb)[0] == "WEBP"


@pytest.mark.parametrize("data", [b"", b"hello, I am text", b"\x00" * 100, os.urandom(2048)],
                         ids=["empty", "text", "zeros", "random"])
def test_bytes_that_are_no_picture_are_refused(data):
    refused(data, "not_image")


@pytest.mark.parametrize("data", [SVG, HTML], ids=["svg", "html"])
def test_svg_or_html_renamed_png_is_refused_by_content(data):
    refused(data, "not_image")


def test_a_truncated_png_is_refused():
    full = png((300, 300), (1, 2, 3)) + b""
    noisy = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(noisy, "PNG")
    data = noisy.getvalue()
    refused(data[: len(data) // 2], "broken")
    assert uploads.sanitise(full).width == 300


def test_a_truncated_jpeg_is_refused():
    noisy = io.BytesIO()
    Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)).save(noisy, "JPEG")
    data = noisy.getvalue()
    refused(data[: len(data) * 2 // 3], "broken")


def test_a_20000_square_png_bomb_is_refused_before_its_pixels_are_decoded(monkeypatch):
    bomb = png_bomb()
    assert len(bomb) < 100_000          # small on disk, 400 megapixels promised
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self) or None)
    err = refused(bomb, "too_many_pixels")
    assert "megapixels" in str(err)
    assert loads == []                  # refused from the header: nothing decoded


def test_the_pixel_limit_is_ours_not_only_pillows_global(monkeypatch):
    """With Pillow's global limit switched off, the per-call limit still refuses; a
    picture just over our limit (well under Pillow's) is refused too."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    refused(png_bomb(), "too_many_pixels")
    side = int(uploads.MAX_PIXELS ** 0.5) + 1
    refused(png_header_only(side, side), "too_many_pixels")


def test_pillows_bomb_warning_is_an_error_for_uploads(monkeypatch):
    """Between 1× and 2× Pillow's global limit Pillow only warns: here it refuses."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    refused(png((40, 40)), "too_many_pixels")        # 1600 px: Pillow warns
    refused(png((50, 50)), "too_many_pixels")        # 2500 px: Pillow raises


def test_a_jpeg_with_gps_exif_comes_out_without_any_metadata():
    data = jpeg_with_gps()
    with Image.open(io.BytesIO(data)) as im:     # the crafted file really carries them
        assert im.getexif().get_ifd(0x8825)[2] == GPS_LAT
    assert GPS_TEXT in data and b"SecretCam" in data
    clean = uploads.sanitise(data)
    for out in (clean.data, clean.thumb):
        fmt, size, mode, info, exif = decoded(out)
        assert exif == {}
        assert not set(info) & {"exif", "icc_profile", "xmp", "comment", "dpi", "XML:com.adobe.xmp"}
        assert b"Exif" not in out and b"GPS" not in out and GPS_TEXT not in out
        assert b"SecretCam" not in out and b"XMP" not in out and b"ICCP" not in out


def test_exif_orientation_is_applied_before_the_metadata_goes():
    clean = uploads.sanitise(jpeg_with_gps((120, 80), orientation=6))   # rotated 90° clockwise
    assert (clean.width, clean.height) == (80, 120)
    with Image.open(io.BytesIO(clean.data)) as im:
        rgb = im.convert("RGB")
        # The yellow mark (top-left before) is now at the top right.
        r, g, b = rgb.getpixel((75, 5))
        assert r > 180 and g > 180 and b < 90, (r, g, b)


def test_a_large_rotated_photo_is_turned_and_bounded_on_its_long_edge():
    """Shrinking now happens before the orientation is applied (so no full-size copy
    is made): the stored picture still stands upright within 1600 px."""
    clean = uploads.sanitise(jpeg_with_gps((3000, 2000), orientation=6))
    assert (clean.width, clean.height) == (1067, 1600)
    with Image.open(io.BytesIO(clean.data)) as im:
        r, g, b = im.convert("RGB").getpixel((1000, 40))     # the mark: top right now
        assert r > 180 and g > 180 and b < 90, (r, g, b)


def test_png_text_chunks_and_icc_profiles_are_dropped():
    from PIL import ImageCms, PngImagePlugin
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "secret author")
    meta.add_itxt("Location", "secret place", zip=True)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = png((50, 50), pnginfo=meta, icc_profile=icc)
    assert b"secret author" in data
    clean = uploads.sanitise(data)
    fmt, size, mode, info, exif = decoded(clean.data)
    assert "icc_profile" not in info and "Author" not in info and exif == {}
    assert b"secret" not in clean.data


def test_big_pictures_are_scaled_down_and_thumbnails_made():
    clean = uploads.sanitise(png((4000, 1000), (0, 0, 255)))
    assert (clean.width, clean.height) == (uploads.MAX_EDGE, uploads.MAX_EDGE // 4)
    assert decoded(clean.thumb)[1] == (uploads.THUMB_EDGE, uploads.THUMB_EDGE // 4)


def test_transparency_is_kept_and_animations_give_their_first_frame():
    clean = uploads.sanitise(png((40, 40), (255, 0, 0, 0), mode="RGBA"))
    assert decoded(clean.data)[2] == "RGBA"
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    clean = uploads.sanitise(buf.getvalue())
    with Image.open(io.BytesIO(clean.data)) as im:
        assert getattr(im, "n_frames", 1) == 1
        r, g, b = im.convert("RGB").getpixel((15, 15))
        assert r > 200 and g < 60


def test_more_bytes_than_the_limit_are_refused():
    refused(b"\x89PNG" + b"\0" * uploads.MAX_BYTES, "too_large")


# ====================================================================== ids and files

def test_ids_are_random_and_references_strict():
    ids = {uploads.new_upload_id() for _ in range(50)}
    assert len(ids) == 50 and all(uploads.is_upload_id(i) for i in ids)
    uid = ids.pop()
    assert uploads.parse_ref(uploads.upload_ref(uid)) == uid
    for bad in ("upload:../../etc/passwd", "upload:" + uid + "/x", "upload:", uid, "upload:a b",
                "upload:" + "a" * 44, None, 3, "Upload:" + uid):
        assert uploads.parse_ref(bad) is None, bad


def test_files_are_written_whole_read_back_and_deleted(tmp_path):
    store = uploads.UploadStore(str(tmp_path / "up"))
    uid = uploads.new_upload_id()
    store.save(uid, uploads.sanitise(png((100, 50))))
    assert os.path.exists(store.path(uid)) and os.path.exists(store.path(uid, True))
    assert [f for f in os.listdir(tmp_path / "up") if f.endswith(".tmp")] == []
    img = store.open_image(uid, 40)
    assert img.mode == "RGBA" and img.size == (40, 20)
    store.delete(uid)
    assert not os.path.exists(store.path(uid)) and store.open_image(uid, 40) is None
    assert store.path("../x") is None and store.open_image("../../etc", 10) is None


# ====================================================================== HTTP routes

def csrf_of(client):
    r = client.get("/uploads")
    assert r.status_code == 200, r.status_code
    return r.get_json()["csrf"]


BOUNDARY = "----playroom-test-boundary"


def multipart(data, name="photo.png", content_type="image/png"):
    """A multipart body with one file field, built as bytes (the test client would
    otherwise spool a big body to a temporary file it never closes)."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def post(client, data, name="photo.png", token=None, content_type="image/png", headers=None):
    token = csrf_of(client) if token is None else token
    return client.post("/uploads", data=multipart(data, name, content_type),
                       headers={"X-CSRFToken": token} if headers is None else headers,
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


def fetch(client, path):
    """GET a file route; the response is closed (send_file keeps the file open)."""
    r = client.get(path)
    r.get_data()
    r.close()
    return r


def status(client, path):
    return fetch(client, path).status_code


def files_on_disk(app):
    root = os.path.join(app.config["INSTANCE_PATH"], "uploads")
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs) if os.path.exists(root) else []


def test_a_therapist_uploads_lists_and_reads_a_picture(therapist, room, pr, app):
    r = post(therapist, jpeg_with_gps())
    assert r.status_code == 201, r.get_json()
    up = r.get_json()["upload"]
    assert up["ref"] == "upload:" + up["id"] and (up["width"], up["height"]) == (120, 80)
    assert pr.storage.get_upload(up["id"])["therapist_id"] == therapist.therapist_id
    assert [u["id"] for u in therapist.get("/uploads").get_json()["uploads"]] == [up["id"]]
    for path in (f"/rooms/{room.id}/uploads/{up['id']}.webp",
                 f"/rooms/{room.id}/uploads/{up['id']}/thumb.webp"):
        r = fetch(therapist, path)
        assert r.status_code == 200 and r.mimetype == "image/webp"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert decoded(r.data)[0] == "WEBP" and decoded(r.data)[4] == {}
        assert GPS_TEXT not in r.data and b"Exif" not in r.data
    assert set(files_on_disk(app)) == {f"thumbs/{up['id']}.webp", f"{up['id']}.webp"}


@pytest.mark.parametrize("data,name,status", [
    (b"just some text", "notes.png", 400),
    (SVG, "drawing.png", 400),
    (HTML, "page.png", 400),
    (None, "broken.png", 400),           # a truncated PNG, built below
    (png_bomb(), "bomb.png", 400),
], ids=["text", "svg", "html", "truncated", "bomb"])
def test_bad_uploads_are_refused_with_a_reason_and_nothing_is_stored(therapist, pr, app, data,
                                                                      name, status):
    if data is None:
        noisy = io.BytesIO()
        Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(noisy, "PNG")
        data = noisy.getvalue()[:20000]
    r = post(therapist, data, name, content_type="image/png")
    assert r.status_code == status, r.status_code
    body = r.get_json()
    assert body["ok"] is False and body["error"] and "Traceback" not in body["error"]
    assert pr.storage.list_uploads(therapist.therapist_id) == []
    assert files_on_disk(app) == []
    assert therapist.get("/uploads").status_code == 200          # the server is fine


def test_an_oversize_upload_is_413_and_nothing_is_stored(therapist, pr, app):
    r = post(therapist, b"\x89PNG\r\n\x1a\n" + os.urandom(uploads.MAX_BYTES + 100 * 1024))
    assert r.status_code == 413
    assert pr.storage.list_uploads(therapist.therapist_id) == [] and files_on_disk(app) == []
    assert post(therapist, png()).status_code == 201             # and the next one works


def test_upload_needs_the_csrf_header_and_a_therapist(therapist, room, make_guest, client, pr, app):
    assert post(therapist, png(), token="wrong").status_code == 400
    assert post(therapist, png(), headers={}).status_code == 400
    guest = make_guest(room.links["child"])
    for c in (guest, client):
        assert c.get("/uploads").status_code == 403
        assert post(c, png(), token="", headers={}).status_code in (400, 403)
        assert post(c, png(), token=csrf_of(therapist)).status_code in (400, 403)
    assert pr.storage.list_uploads(therapist.therapist_id) == [] and files_on_disk(app) == []


def share_in_story(pr, therapist, room, ref, story="mine"):
    th = therapist.participant
    ack = pr.engine.submit(room.id, th, {"op_id": f"c-{story}", "a": "stories", "t": "story.copy",
                                         "d": {"id": story, "from": "friend"}})
    assert ack["ok"], ack
    ack = pr.engine.submit(room.id, th, {"op_id": f"p-{story}", "a": "stories", "t": "page.pics",
                                         "d": {"id": story, "page": 0, "pics": [ref, "star"]}})
    assert ack["ok"], ack


def test_guests_see_a_picture_only_while_their_room_shows_it(therapist, room, make_guest, pr):
    up = post(therapist, png()).get_json()["upload"]
    guest = make_guest(room.links["child"])
    url = f"/rooms/{room.id}/uploads/{up['id']}.webp"
    assert status(guest, url) == 404                             # not in any story yet
    share_in_story(pr, therapist, room, up["ref"])
    r = fetch(guest, url)
    assert r.status_code == 200 and r.mimetype == "image/webp"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert status(guest, f"/rooms/{room.id}/uploads/{up['id']}/thumb.webp") == 200
    # Deleting the story takes the picture away from guests again.
    assert pr.engine.submit(room.id, therapist.participant,
                            {"op_id": "del", "a": "stories", "t": "story.delete",
                             "d": {"id": "mine"}})["ok"]
    assert status(guest, url) == 404


def test_other_people_cannot_read_or_delete_a_picture(therapist, make_therapist, create_room,
                                                      room, make_guest, client, pr, app):
    up = post(therapist, png()).get_json()["upload"]
    share_in_story(pr, therapist, room, up["ref"])
    other = make_therapist()
    other_room = create_room(other, "Alex, 6")
    # The other therapist's room uses the same reference: still not served there.
    share_in_story(pr, other, other_room, up["ref"])
    outsider = make_guest(other_room.links["child"])
    for c, room_id in ((other, other_room.id), (other, room.id), (outsider, other_room.id),
                       (outsider, room.id), (client, room.id)):
        for suffix in (".webp", "/thumb.webp"):
            assert status(c, f"/rooms/{room_id}/uploads/{up['id']}{suffix}") == 404
    # Only the owner deletes; the others get 404/403 and the picture stays.
    r = other.delete(f"/uploads/{up['id']}", headers={"X-CSRFToken": csrf_of(other)})
    assert r.status_code == 404
    guest = make_guest(room.links["child"])
    assert guest.delete(f"/uploads/{up['id']}").status_code in (400, 403)
    assert client.delete(f"/uploads/{up['id']}").status_code in (400, 403)
    assert pr.storage.get_upload(up["id"]) is not None and len(files_on_disk(app)) == 2
    assert therapist.delete(f"/uploads/{up['id']}").status_code == 400      # no CSRF header
    r = therapist.delete(f"/uploads/{up['id']}", headers={"X-CSRFToken": csrf_of(therapist)})
    assert r.status_code == 200 and r.get_json()["ok"]
    assert pr.storage.get_upload(up["id"]) is None and files_on_disk(app) == []
    assert status(therapist, f"/rooms/{room.id}/uploads/{up['id']}.webp") == 404


@pytest.mark.parametrize("bad", ["..%2F..%2Fsecret_key", "x" * 22, "short", "A" * 22 + ".webp"])
def test_odd_ids_in_urls_are_404(therapist, room, bad):
    assert status(therapist, f"/rooms/{room.id}/uploads/{bad}.webp") == 404
    r = therapist.delete(f"/uploads/{bad}", headers={"X-CSRFToken": csrf_of(therapist)})
    assert r.status_code in (404, 405)


# ====================================================================== stories use uploads

def test_story_pages_accept_upload_references_in_a_strict_format():
    uid = uploads.new_upload_id()
    ok = stories.validate("page.pics", {"id": "s", "page": 0, "pics": ["upload:" + uid, "owl"]})
    assert not isinstance(ok, Rejected)
    for bad in ("upload:../x", "upload:" + uid + "!", "upload:", "file:" + uid, "uploads:" + uid):
        out = stories.validate("page.pics", {"id": "s", "page": 0, "pics": [bad]})
        assert isinstance(out, Rejected) and out.code == "invalid", bad
    state = stories.apply(stories.initial_state(), "story.copy", {"id": "s", "from": "angry"})[0]
    state = stories.apply(state, "page.pics", {"id": "s", "page": 1, "pics": ["upload:" + uid]})[0]
    assert stories.uploads_used(state) == {uid}
    assert stories.uploads_used(stories.initial_state()) == set()


def test_STORY5_the_pdf_draws_an_uploaded_picture(therapist, room, pr):
    # A solid green picture: the PDF page shows green where the picture goes.
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (0, 160, 60)).save(buf, "PNG")
    up = post(therapist, buf.getvalue()).get_json()["upload"]
    share_in_story(pr, therapist, room, up["ref"])
    r = therapist.get(f"/rooms/{room.id}/download/stories/mine.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", r.data)) == \
        len(stories.READY["friend"]["pages"])
    # The same page rendered directly: the upload is drawn in the picture area.
    _, state = pr.engine.state(room.id, "stories")
    files = uploads.UploadStore(os.path.join(pr_instance(pr, therapist), "uploads"))
    page = stories.render_page(state["stories"]["mine"], 0,
                               Assets(ROOT, lambda uid, size: files.open_image(uid, size)))
    greens = sum(1 for r_, g, b in page.crop((0, 90, 1240, 490)).get_flattened_data()
                 if g > 130 and r_ < 40 and b < 90)
    assert greens > 20000
    without = stories.render_page(state["stories"]["mine"], 0, Assets(ROOT))
    assert sum(1 for r_, g, b in without.crop((0, 90, 1240, 490)).get_flattened_data()
               if g > 130 and r_ < 40 and b < 90) < 100


def pr_instance(pr, therapist):
    return therapist.application.config["INSTANCE_PATH"]
