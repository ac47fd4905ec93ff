// The therapist's own pictures ("upload:<id>", rooms/web/uploads.py) in the browser:
// showing one (everyone in the room, through the room's URL), listing and sending them
// (the therapist's editor). Shared by stories.js and schedule.js.
//
// An upload is checked and cleaned on the server (real picture formats only, size and
// pixel limits, metadata removed); the browser only offers a file input and reports
// progress and refusals in plain words.
import {formatNumber, t} from "./i18n.js";
import {el, picture} from "./util.js";

export const PREFIX = "upload:";

/** The upload id of a picture reference, or null for a catalog picture. */
export function uploadId(ref) {
  return typeof ref === "string" && ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : null;
}

function fill(template, room, id) {
  return template.replace("{room}", encodeURIComponent(room)).replace("{id}", encodeURIComponent(id));
}

/** URL of an uploaded picture (or its thumbnail) in this room. */
export function uploadUrl(cfg, room, ref, thumb = false) {
  const id = uploadId(ref);
  return id ? fill(thumb ? cfg.upload_thumb_url : cfg.upload_pic_url, room, id) : null;
}

// Shown instead of an uploaded picture that is gone (deleted by its therapist, or
// by retention): a calm camera, not the browser's broken-image sign.
const GONE = "camera";

/** An <img> for a picture id: a catalog picture or an upload; never HTML from data. */
export function pictureOf(ctx, cfg, ref, cls, alt = "", thumb = false) {
  const url = uploadUrl(cfg, ctx.config.room.id, ref, thumb);
  if (!url) return picture(ctx.pictures, ref, cls, alt || ctx.pictures[ref]?.label || "");
  const img = el("img", {class: cls + " pic-upload", src: url, alt: alt || t("our picture"), draggable: "false"});
  const gone = ctx.pictures[GONE];
  img.addEventListener("error", () => {
    if (!gone || img.dataset.gone) return;
    img.dataset.gone = "true";
    img.alt = t("This picture is not here any more");
    img.src = gone.url;
  });
  return img;
}

const MB = 1024 * 1024;

/** Talks to /uploads for the therapist: list, send (with progress), delete. */
export class UploadClient {
  constructor(cfg) {
    this.cfg = cfg;
    this.items = null;          // [{id, ref, width, height, ...}] once listed
    this.csrf = null;
    this.loading = null;
  }

  /** Fetch the list (once; `again` to refresh). Resolves to the items. */
  list(again = false) {
    if (this.loading && !again) return this.loading;
    this.loading = fetch(this.cfg.uploads_url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("list"))))
      .then((body) => {
        this.items = body.uploads;
        this.csrf = body.csrf;
        return this.items;
      })
      .catch(() => {
        this.loading = null;
        this.items = this.items || [];
        return this.items;
      });
    return this.loading;
  }

  /**
   * Send one file. onProgress(text) gets plain words while it goes; resolves to the
   * new upload, or rejects with an Error whose message is for the therapist.
   */
  async send(file, onProgress = () => {}) {
    if (!file) throw new Error(t("No picture was chosen."));
    const max = this.cfg.upload_max_bytes;
    const tooBig = () => t("This picture is too big (at most {mb} MB).", {mb: formatNumber(Math.round(max / MB))});
    if (file.size > max) throw new Error(tooBig());
    if (!this.csrf) await this.list(true);
    const form = new FormData();
    form.append("file", file, file.name || "picture");
    const body = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.cfg.uploads_url);
      xhr.setRequestHeader("X-CSRFToken", this.csrf || "");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(t("Sending the picture… {percent}",
          {percent: formatNumber(e.loaded / e.total, {style: "percent", maximumFractionDigits: 0})}));
      };
      xhr.upload.onload = () => onProgress(t("Checking and cleaning the picture…"));
      xhr.onerror = () => reject(new Error(t("The picture could not be sent. Check the connection and try again.")));
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { data = null; }
        if (xhr.status === 201 && data && data.ok) resolve(data);
        else if (xhr.status === 413) reject(new Error(tooBig()));
        else reject(new Error((data && data.error) || t("The picture could not be saved.")));
      };
      onProgress(t("Sending the picture…"));
      xhr.send(form);
    });
    this.items = [body.upload, ...(this.items || []).filter((u) => u.id !== body.upload.id)];
    return body.upload;
  }
}
