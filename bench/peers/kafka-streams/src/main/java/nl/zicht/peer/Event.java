package nl.zicht.peer;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** The SPEC section 2 envelope and the fields the job reads; other fields are ignored. */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Event {
  public String type;
  public String id;
  public String time;
  public String municipality;
  public Double amount_eur;
  public String channel;
  public String buyer_type;
  public String sector;
}
