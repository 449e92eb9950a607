"""Asynchronous video generation.

Submit: validate, hold ``duration × price per second``, hand the job to the first route that
accepts it, answer ``202 {id, status: "queued"}``. A poller in every server process then
follows the upstream task (replicas claim each poll with a compare-and-set on
``next_poll_at``, so one replica polls a job at a time); on success the video is stored and
served by us and the hold is settled, on failure or timeout it is released. Jobs live in the
database, so a restarted server resumes polling them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from modelsnest import billing
from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import require_price, unit_cost
from modelsnest.db.base import utcnow
from modelsnest.db.models import VideoJob
from modelsnest.errors import InvalidRequest, NotFound
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.admission import admit, call_routes, resolve_model
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.service import Gateway
from modelsnest.providers.errors import ProviderError
from modelsnest.providers.media_types import VideoRequest, VideoStatus, VideoTask

log = logging.getLogger(__name__)

ENDPOINT = "video"
MAX_SECONDS = 60
DEFAULT_SECONDS = 5


def _duration(body: dict[str, Any]) -> int:
    name = "duration" if "duration" in body else "duration_seconds"
    value = body.get(name, DEFAULT_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SECONDS:
        raise InvalidRequest(f"{name} must be a whole number of seconds from 1 to {MAX_SECONDS}", param=name)
    return value


def parse_video_request(body: dict[str, Any]) -> VideoRequest:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt is required", param="prompt")
    width, height = body.get("width"), body.get("height")
    for name, value in (("width", width), ("height", height)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= 4096
        ):
            raise InvalidRequest(f"{name} must be an integer from 64 to 4096", param=name)
    image_url = body.get("image_url")
    if image_url is not None and not isinstance(image_url, str):
        raise InvalidRequest("image_url must be a string", param="image_url")
    known = {"model", "prompt", "duration", "duration_seconds", "width", "height", "image_url"}
    return VideoRequest(
        prompt=prompt,
        duration_seconds=_duration(body),
        width=width,
        height=height,
        image_url=image_url,
        extra={k: v for k, v in body.items() if k not in known},
    )


async def submit(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str
) -> tuple[bytes, dict[str, str]]:
    started = time.perf_counter()
    body = parse_json_object(raw)
    model = await resolve_model(gateway, principal, require_model(body), ENDPOINT)
    price = require_price(model)
    request = parse_video_request(body)
    cost = unit_cost(price, request.duration_seconds)
    admission = await admit(
        gateway,
        principal,
        model,
        price,
        request_id=request_id,
        hold_nanos=cost,
        endpoint=ENDPOINT,
        hold_ttl_seconds=gateway.settings.video_timeout_seconds + 3600,
    )
    # The job outlives this request: its concurrency slot is given back right away.
    await admission.free_slot(gateway)

    async def call(route: Any) -> VideoTask:
        task: VideoTask = await gateway.pool.get(route.provider).submit_video(request, route.upstream_model)
        return task

    task, served = await call_routes(gateway, admission, ENDPOINT, started, call)
    job_id = "vid_" + secrets.token_urlsafe(18)
    now = utcnow()
    async with gateway.sessions.begin() as session:
        session.add(
            VideoJob(
                id=job_id,
                user_id=principal.user_id,
                api_token_id=principal.key_id,
                model_slug=model.slug,
                provider_name=served.provider_name,
                upstream_model=served.upstream_model,
                upstream_task_id=task.task_id,
                status="queued",
                progress=0,
                duration_seconds=request.duration_seconds,
                request={"prompt": request.prompt, "request_id": request_id},
                hold_id=admission.hold_id,
                cost_nanos=cost,
                next_poll_at=now + timedelta(seconds=gateway.settings.video_poll_seconds),
                created_at=now,
                updated_at=now,
            )
        )
    out = {
        "id": job_id,
        "object": "video.generation",
        "status": "queued",
        "model": model.slug,
        "created": int(now.timestamp()),
        "duration_seconds": request.duration_seconds,
        "estimated_cost_usd": money(cost),
    }
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    return dumps(out), headers


def job_json(job: VideoJob, public_base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "object": "video.generation",
        "status": job.status,
        "progress": job.progress,
        "model": job.model_slug,
        "created": int(job.created_at.timestamp()),
        "duration_seconds": job.duration_seconds,
    }
    if job.status == "succeeded" and job.file_id:
        out["video_url"] = f"{public_base}/files/{job.file_id}"
        out["billing"] = {
            "cost_usd": money(job.cost_nanos or 0),
            "billed_quantity": job.duration_seconds,
            "billed_unit": "second",
        }
    if job.status == "failed":
        out["error"] = {"code": job.error_code, "message": job.error_message}
    return out


async def get_job(gateway: Gateway, principal: ApiKeyPrincipal, job_id: str, public_base: str) -> bytes:
    async with gateway.sessions() as session:
        job = (
            await session.execute(
                select(VideoJob).where(VideoJob.id == job_id, VideoJob.user_id == principal.user_id)
            )
        ).scalar_one_or_none()
    if job is None:  # another user's job reads as unknown
        raise NotFound(f"no video generation with id '{job_id}'", code="VIDEO_NOT_FOUND", param="id")
    return dumps(job_json(job, public_base))


def _usage(job: VideoJob, **fields: Any) -> billing.UsageRecord:
    request_id = (job.request or {}).get("request_id") or job.id
    return billing.UsageRecord(
        request_id=request_id,
        user_id=job.user_id,
        api_token_id=job.api_token_id,
        endpoint=ENDPOINT,
        model_slug=job.model_slug,
        provider_name=job.provider_name,
        upstream_model=job.upstream_model,
        **fields,
    )


async def _finish_job(
    gateway: Gateway, job: VideoJob, status: VideoStatus, *, error_code: str = "VIDEO_FAILED"
) -> None:
    now = utcnow()
    assert job.hold_id is not None
    if status.state == "succeeded" and status.video:
        stored = await gateway.media.save(
            job.user_id, status.video, status.content_type or "video/mp4", "video"
        )
        await billing.settle(
            gateway.sessions,
            hold_id=job.hold_id,
            cost_nanos=job.cost_nanos or 0,
            usage=_usage(
                job,
                units=job.duration_seconds,
                unit_type="second",
                status="success",
                http_status=200,
                latency_ms=int((now - job.created_at).total_seconds() * 1000),
            ),
        )
        values: dict[str, Any] = {
            "status": "succeeded",
            "progress": 100,
            "file_id": stored.id,
            "finished_at": now,
        }
    else:
        message = status.error or "the upstream returned no video"
        await billing.release(
            gateway.sessions,
            hold_id=job.hold_id,
            usage=_usage(
                job, status="error", http_status=502, error_code=error_code, error_message=message[:500]
            ),
        )
        values = {
            "status": "failed",
            "error_code": error_code,
            "error_message": message[:500],
            "finished_at": now,
            "cost_nanos": 0,
        }
    async with gateway.sessions.begin() as session:
        await session.execute(update(VideoJob).where(VideoJob.id == job.id).values(updated_at=now, **values))


async def poll_once(gateway: Gateway) -> int:
    """Advance every due job this process manages to claim. Returns how many it polled."""
    now = utcnow()
    async with gateway.sessions() as session:
        due = list(
            (
                await session.execute(
                    select(VideoJob)
                    .where(VideoJob.status.in_(("queued", "running")), VideoJob.next_poll_at <= now)
                    .order_by(VideoJob.next_poll_at)
                    .limit(20)
                )
            ).scalars()
        )
    polled = 0
    snapshot = await gateway.catalog.get()
    for job in due:
        async with gateway.sessions.begin() as session:
            claimed = await session.execute(
                update(VideoJob)
                .where(VideoJob.id == job.id, VideoJob.next_poll_at == job.next_poll_at)
                .values(next_poll_at=now + timedelta(seconds=gateway.settings.video_poll_seconds))
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another replica took it
        polled += 1
        if (now - job.created_at).total_seconds() > gateway.settings.video_timeout_seconds:
            timeout = VideoStatus(state="failed", error="the video did not finish in time")
            await _finish_job(gateway, job, timeout, error_code="VIDEO_TIMEOUT")
            continue
        model = snapshot.models.get(job.model_slug)
        route = next(
            (r for r in (model.routes if model else ()) if r.provider.name == job.provider_name), None
        )
        if route is None or job.upstream_task_id is None:
            await _finish_job(
                gateway, job, VideoStatus(state="failed", error="the provider of this job is gone")
            )
            continue
        try:
            status = await gateway.pool.get(route.provider).poll_video(
                job.upstream_task_id, job.upstream_model or ""
            )
        except ProviderError as exc:
            log.warning("polling video %s failed (will retry): %s", job.id, exc.message)
            continue
        if status.state in ("succeeded", "failed"):
            await _finish_job(gateway, job, status)
        else:
            async with gateway.sessions.begin() as session:
                await session.execute(
                    update(VideoJob)
                    .where(VideoJob.id == job.id)
                    .values(
                        status=status.state, progress=max(0, min(99, status.progress)), updated_at=utcnow()
                    )
                )
    return polled


async def run_video_poller(gateway: Gateway) -> None:
    while True:
        try:
            await poll_once(gateway)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("video poller round failed")
        await asyncio.sleep(max(0.2, gateway.settings.video_poll_seconds / 2))
