"""Lambda handlers of the ImageProcessor construct (Pillow + AWS Lambda Powertools).

``imaging`` holds the image logic (pure Pillow, no AWS); ``handlers`` the Lambda entry points
the state machine invokes; ``manifest`` the batch-manifest reader.
"""
