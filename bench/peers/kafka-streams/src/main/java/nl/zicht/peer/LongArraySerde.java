package nl.zicht.peer;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Fixed-layout long[] values (big-endian), the compact encoding of every store value. */
final class LongArraySerde implements Serde<long[]> {
  @Override
  public Serializer<long[]> serializer() {
    return (topic, v) -> {
      if (v == null) return null;
      ByteBuffer b = ByteBuffer.allocate(v.length * Long.BYTES);
      for (long x : v) b.putLong(x);
      return b.array();
    };
  }

  @Override
  public Deserializer<long[]> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) return null;
      ByteBuffer b = ByteBuffer.wrap(bytes);
      long[] v = new long[bytes.length / Long.BYTES];
      for (int i = 0; i < v.length; i++) v[i] = b.getLong();
      return v;
    };
  }
}
