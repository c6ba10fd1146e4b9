"""What the ``workbook`` commands print for a bad input: Chinese first, then English, contacts masked."""

from __future__ import annotations

from workbook.errors import WorkbookInputError


def error_message(exc: WorkbookInputError) -> str:
    """The text ``workbook`` prints for a bad input: Chinese first (if any), then English.

    Parameters
    ----------
    exc : WorkbookInputError
        The error raised by a sub-command.

    Returns
    -------
    str
        ``"错误：<message_zh>"`` on the first line when the error has a Chinese
        message, then ``"error: <message>"``; no traceback.  Anything shaped
        like a mobile number or an e-mail address is masked
        (:func:`workbook.privacy.mask_contacts`): a message may quote a cell.

    Examples
    --------
    >>> print(error_message(WorkbookInputError("bins must be 2-10", message_zh="分档数必须在 2 到 10 之间")))
    错误：分档数必须在 2 到 10 之间
    error: bins must be 2-10
    >>> print(error_message(WorkbookInputError("member '13912345678' is not in the members file")))
    error: member '***' is not in the members file
    """
    from workbook.privacy import mask_contacts

    text = f"错误：{exc.message_zh}\nerror: {exc}" if exc.message_zh else f"error: {exc}"
    return mask_contacts(text)[0]
